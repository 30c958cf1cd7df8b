# mod_icsoe: see the files in this directory
