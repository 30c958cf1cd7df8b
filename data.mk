# Installed under $(datadir)/icsoe: schema and example configuration.
nobase_dist_icsoedata_DATA +=
