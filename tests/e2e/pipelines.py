"""Pipelines the browser tests type into the pages."""

WITH_PROBLEMS = """name: deploy
jobs:
  build:
    runs-on: self-hosted
    timeout-minute: 10
    steps:
      - run: echo building
  ship:
    runs-on: self-hosted
    needs: [biuld]
    steps:
      - run: echo shipping
"""
