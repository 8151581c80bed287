"""The standalone build agent (devops_agent.py) and its tests; the agent itself imports nothing from here."""
