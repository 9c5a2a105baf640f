"""The client organization's portal: its corporate programmes (counts, no names), each programme's
sessions and attendance over time, and, once an admin granted it, reports naming its own employees."""
