from specc.cli.main import run

run()
