"""One module per backend under contract test, each defining ``CASE = ContractCase(...)``."""
