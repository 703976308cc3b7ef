// Users of Convert get ModelKit's HDF5 layout too (ModelHDF5 was part of ModelFormat before issue 10).
@_exported import ModelHDF5
