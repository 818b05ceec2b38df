"""Service KPIs read from the canonical event log: ticket facts, KPI summaries, flow and
backlog, breakdowns with outliers, SLA clocks, drift and alert rules.

``supportflow.kpi.compute.compute_kpis`` runs them all; ``docs/kpi.md`` defines each figure.
"""
