"""Shared look and feel: colours, formatting, pings, paging and confirmation views."""
