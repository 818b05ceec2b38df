"""What-if before changing anything: staffing (Erlang C), and later the desk simulation."""
