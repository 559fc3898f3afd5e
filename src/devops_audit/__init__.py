"""devops-audit: policy-as-code compliance checks against the CAICT DevOps maturity model."""

__all__ = ["__version__"]
__version__ = "0.1.0"
