"""What-if before changing anything: staffing (Erlang C and Erlang A), a SimPy model of a
multi-channel, multi-language desk routed by :mod:`supportflow.routing`, scenarios with what-if
overlays, calibration from an event log, replications with confidence intervals, and the peak
plan. ``docs/simulation.md`` and ``docs/staffing.md`` describe them."""
