"""supportflow: process intelligence and automation for customer-service operations."""

__version__ = "0.1.0"
