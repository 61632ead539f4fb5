"""make bench: run every benchmark and print its figures (JSON copies go to bench/results/)."""

from bench import api_latency, upload

if __name__ == "__main__":
    api_latency.main()
    upload.main()
