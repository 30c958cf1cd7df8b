# tools: see the files in this directory
