"""The product catalog flow's parts: PDM products into the hub, and out to ERP and shop."""
