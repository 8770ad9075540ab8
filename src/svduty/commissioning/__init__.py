"""Commissioning and evaluation: the interventions register, the evidence of what works, funding
rounds allocated by need and evidence, and the evaluation of what was funded."""
