"""The output layer: writers, charts and number formats; nothing below it imports it."""
