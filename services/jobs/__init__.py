"""Jobs service: job records, the state machine, and the only writer of job state."""
