"""Post-deploy assertions: YAML files (load.py) compiled into ONE SQL request (run.py), one kind per file
(kinds/, see kind.py). See docs/assertions.md."""
