"""A graph module written as a script: it parses the command line at import.

Imported by the desk (a test, uvicorn, Streamlit), `parse_args()` finds no `--region` in the
host process's argv and raises `SystemExit(2)`, which is not an `Exception`.
"""

import argparse

from tests.fixture_graphs import fragile

parser = argparse.ArgumentParser(description="a batch job that was turned into a graph module")
parser.add_argument("--region", required=True)
args = parser.parse_args()

graph = fragile
