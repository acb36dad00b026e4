"""File-based partners (3PL, DRP distributors, PDM) working on an SFTP user's directory tree."""

from sandbox.files.runner import FilePartners, start_file_partners

__all__ = ["FilePartners", "start_file_partners"]
