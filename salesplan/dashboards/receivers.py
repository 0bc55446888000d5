"""What the dashboards layer does when the layers below announce something."""
