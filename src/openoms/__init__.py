"""openoms: an omnichannel Order Management System."""

__version__ = "0.1.0"
