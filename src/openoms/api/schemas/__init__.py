"""Request and response bodies: the API's contract, separate from tables and domain classes."""
