"""Synthetic data for tests, samples and benchmarks: patients, document text, scans. Never real."""
