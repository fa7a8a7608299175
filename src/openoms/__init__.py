"""openoms: an omnichannel Order Management System."""

from openoms.compiled import guard

__version__ = "0.1.0"

guard()
