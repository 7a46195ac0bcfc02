"""Reading config.json: schema validation and the checks a schema cannot express."""
