module gitpod-cell/tools/installer-schema

go 1.24
