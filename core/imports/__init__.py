"""CSV imports, one pipeline with two targets: pure rules (rules.py, reading.py, contacts.py), the pipeline every
target shares (pipeline.py: the upload, the shape of a target), the targets side by side (targets.py: trainees.py
+ commit.py into a corporate cohort, learners.py into an institution), and the service that validates and
commits any import through its target (service.py)."""
