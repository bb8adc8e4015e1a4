"""The ``milchak`` command line: one module per command group."""

import click

from bot.cli import admin, assign, db, employee, importer, nlu, report, run, seed, web


@click.group()
def main() -> None:
    """밀착 (milchak) — 국제생명 계약자 밀착관리 챗봇."""


main.add_command(db.db)
main.add_command(seed.seed)
main.add_command(importer.import_group)
main.add_command(run.run)
main.add_command(run.chat)
main.add_command(admin.admin)
main.add_command(report.report)
main.add_command(web.web)
main.add_command(nlu.nlu)
main.add_command(employee.employee)
main.add_command(assign.assign)
