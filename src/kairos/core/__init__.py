"""The foundation below every app (issue #10): policy and roles, clinic scoping, time checks, the form-error
helper, the append-only model base and its one exception, the one reason rule, the list pagination schema.

It imports no other ``kairos`` package (the import-linter layers contract keeps it at the bottom); it may use
Django. Apps import it; it never imports an app.
"""
