from specc.cli import run

run()
