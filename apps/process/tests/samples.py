"""Pipeline YAML used by the process tests: valid ones and one with several problems."""

HELLO = """name: hello
on: push
jobs:
  greet:
    runs-on: [self-hosted]
    steps:
      - run: echo hello
"""

HELLO_TWICE = HELLO + "      - run: echo hello again\n"

# Line 3 has an unknown top-level key; the step on line 8 has neither `run` nor `checkout`.
TWO_PROBLEMS = """name: broken
on: push
jobz: {}
jobs:
  build:
    runs-on: [linux]
    steps:
      - name: does nothing
"""
TWO_PROBLEM_LINES = {3, 8}
