"""Engines in: Snakemake, Nextflow, Cromwell, Agave and AWS runs tracked as workflows (docs/engines.md).

Each engine's adapter turns its messages into the events of :mod:`.model`; the tracker applies them to a
workflow of jobs, created as the engine announces them.
"""
