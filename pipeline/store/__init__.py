"""Object stores, the manifest database, FHIR export and audit."""
