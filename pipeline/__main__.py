from pipeline.cli import programme

programme(prog_name="ctg")
