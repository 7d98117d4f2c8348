"""The run directory: event contract, Parquet writer and reader, manifest, reports."""
