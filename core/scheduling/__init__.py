"""Session schedules: planning, conflict checks, the facilitator's console."""
