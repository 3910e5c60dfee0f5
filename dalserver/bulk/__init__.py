"""Bulk download of the portal's cart: many published products as one zip, as a file list or a
shell script with SHA-256 checksums, and cutouts of one region from every ticked image."""
