"""Document-type classification with LOINC-coded types and calibrated confidence."""
