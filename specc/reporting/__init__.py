"""Reports about a spec: summary shapes, diff, drawing."""
