"""The inventory availability flow's parts: stock levels in, available-to-promise out."""
