# Container: make_unpacker, the engine's tars unpacked from a stream (UNPACKER in ../scripts.ts).
import os, sys
def make_unpacker(src, here):
    def read(n):
        data = src.read(n)
        if len(data) != n:
            raise EOFError("the engine stopped sending")
        return data
    made = set([here])
    def unpack(size):
        done, long_name = 0, None
        while done < size:
            header = read(512)
            done += 512
            if not header.strip(b"\0"):
                continue  # end-of-archive and padding blocks
            length = int(header[124:136].strip(b"\0 ") or b"0", 8)
            data = read(length)
            pad = -length % 512
            read(pad)
            done += length + pad
            kind = header[156:157]
            if kind in (b"x", b"L"):  # pax or GNU long name for the next entry
                text = data.rstrip(b"\0").decode()
                long_name = text if kind == b"L" else next((r.split("=", 1)[1] for r in text.split("\n") if r.split(" ", 1)[-1].startswith("path=")), long_name)
                continue
            if kind == b"g":
                continue
            path = long_name or header[:100].rstrip(b"\0").decode()
            prefix = header[345:500].rstrip(b"\0").decode() if not long_name else ""
            long_name = None
            path = (prefix + "/" + path if prefix else path).rstrip("/")
            if path.startswith("/") or ".." in path.split("/"):
                raise ValueError("unsafe path in the payload: " + path)
            target = os.path.join(here, path)
            if kind == b"5":
                if target not in made:
                    os.makedirs(target, exist_ok=True)
                    made.add(target)
                continue
            if kind not in (b"0", b"\0"):
                continue
            parent = os.path.dirname(target)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, int(header[100:108].strip(b"\0 ") or b"644", 8) & 0o777)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
    return unpack
