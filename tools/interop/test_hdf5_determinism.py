"""HDF5 files that ModelKit writes carry no object timestamps, so the same model gives the same bytes whenever it is
saved (the crash-safety test compares bytes). Regression: the root group, made by H5Fcreate, kept libhdf5's default
timestamps, and two saves a second apart differed."""
import h5py
import pytest


@pytest.mark.parametrize("fmt,name", [("h5", "m.h5"), ("keras-h5", "m.keras.h5")])
def test_no_object_in_our_hdf5_files_has_a_timestamp(modelkit, workdir, fmt, name):
    modelkit("init", "--arch", "3-4relu-2softmax", "--optimizer", "adam", "--seed", "1", "-o", "m.mkf", expect=0)
    modelkit("convert", "m.mkf", name, "--to", fmt, expect=0)
    with h5py.File(workdir / name, "r") as f:
        stamped = []
        objects = [("/", f)]
        f.visititems(lambda path, obj: objects.append((path, obj)))
        for path, obj in objects:
            info = h5py.h5o.get_info(obj.id)
            if info.ctime or info.mtime or info.atime or info.btime:
                stamped.append(path)
    assert len(objects) > 3
    assert stamped == []
