"""What-if before changing anything: staffing (Erlang C and Erlang A) and a SimPy desk checked
against queueing theory; calibration and scenarios are still to come (issue 5)."""
