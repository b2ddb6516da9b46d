"""communitygrid: community service grid platform (社区服务网格化信息平台)."""

__version__ = "0.1.0"
