"""The master patient index, identifier extraction, matching, HL7 v2 ADT and FHIR import."""
