"""The store app: server-rendered pages under /store/ for associates on a tablet."""
