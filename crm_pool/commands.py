"""bench commands of crm_pool (bench discovers the `commands` list)."""

import click
from frappe.commands import get_site, pass_context


@click.command("crm-pool-demo")
@click.option("--seed", default=42, show_default=True, help="random seed: same seed, same data")
@click.option("--count", default=300, show_default=True, help="number of leads to generate")
@pass_context
def crm_pool_demo(context, seed: int, count: int):
	"""Load the crm_pool demo organisation (idempotent)."""
	import frappe

	from crm_pool.demo import format_summary, make_demo

	site = get_site(context)
	frappe.init(site=site)
	frappe.connect()
	try:
		click.echo(format_summary(make_demo(seed=seed, count=count)))
	finally:
		frappe.destroy()


@click.command("crm-pool-adopt")
@pass_context
def crm_pool_adopt(context):
	"""Give every Lead and Customer without one a Pool Customer (set-based, idempotent)."""
	import frappe

	from crm_pool.pool.adopt import adopt_existing

	frappe.init(site=get_site(context))
	frappe.connect()
	try:
		result = adopt_existing()
		click.echo(
			f"adopted {result['customers']} customers and {result['leads']} leads in {result['seconds']} s"
		)
	finally:
		frappe.destroy()


@click.command("crm-pool-bulk")
@click.option("--count", default=100_000, show_default=True, help="pool customers (and leads) to hold")
@click.option("--clear", is_flag=True, help="remove the bulk leads, pool customers and their pool")
@pass_context
def crm_pool_bulk(context, count: int, clear: bool):
	"""Bulk demo data for benchmarks: N leads + N pool customers, inserted set-based."""
	import frappe

	from crm_pool import bulk_demo

	site = get_site(context)
	frappe.init(site=site)
	frappe.connect()
	try:
		if clear:
			click.echo(f"deleted: {bulk_demo.clear_bulk()}")
		else:
			click.echo(bulk_demo.format_summary(bulk_demo.make_bulk(count)))
	finally:
		frappe.destroy()


commands = [crm_pool_demo, crm_pool_adopt, crm_pool_bulk]
