"""The sandbox trading partners' own X12 software (not the product's codec)."""
