"""The Strategic Needs Assessment report: builder, charts, maps, templates."""
