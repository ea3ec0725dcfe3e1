"""Changes of owner between people (调整 · 交接): approved transfers, leaving staff, ownership
conflicts (撞单)."""
