"""The PTY wrapper behind `expacti run`: the proxy loop, the terminal, recording, shell integration."""
