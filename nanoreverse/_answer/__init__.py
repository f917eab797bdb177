"""The answer as data: shots from Markdown, column titles, durations, the timeline and
editors' exports. Pure functions of text: nothing here touches the network."""
